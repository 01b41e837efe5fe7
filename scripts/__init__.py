"""The `dca` command-line tool and the build steps behind it."""
