from eventshop.cli import main

main()
