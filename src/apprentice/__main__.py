from apprentice.cli import main

main()
