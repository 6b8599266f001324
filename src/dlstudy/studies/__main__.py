from dlstudy.studies.runner import main

main()
