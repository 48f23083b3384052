"""Pure domain model: deciders over frozen dataclasses, standard library only."""
