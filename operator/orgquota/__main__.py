from orgquota.cli import main

main()
