"""`python -m detector` is the same as the `shadow-ai` command."""

from detector.cli import main

if __name__ == "__main__":
    main()
