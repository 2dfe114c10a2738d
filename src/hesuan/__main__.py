"""``python -m hesuan`` runs the command-line interface."""

from hesuan.cli import main

if __name__ == "__main__":
    main()
