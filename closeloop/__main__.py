from closeloop.core.cli import main

main()
