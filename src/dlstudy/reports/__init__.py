"""Study reports: read a study's sweep folders, write its tables between markers in docs/studies.md."""
