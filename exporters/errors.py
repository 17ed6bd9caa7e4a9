"""The one exception type for input a user can fix; the CLI prints it as one line and exits 2."""


class UserError(Exception):
    """Bad input: the message names the file or item and says how to fix it."""
