"""``python -m writers_room`` runs the command line."""

from writers_room.cli import main

main()
