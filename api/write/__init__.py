"""The write side: commands checked, recorded in groups and rung to the workers."""
