"""Plumbing every part shares: the error type, atomic files, the command line, quiet imports."""
