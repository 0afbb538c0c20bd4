from localoffer.cli import main

main()
