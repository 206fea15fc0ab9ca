"""Minutes engine: everything that does the work. Imports no Qt."""
