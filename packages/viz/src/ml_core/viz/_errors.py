"""The one exception type viz raises for inputs it cannot draw."""


class VizInputError(Exception):
    """A run directory, metrics file, data directory or prediction file is unusable.

    The message names the file and what is wrong with it; the CLI prints it as one line.
    """
