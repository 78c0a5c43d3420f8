from tap_asana import main

main()
