"""The one error the training side raises for a person to read (the `train` command shows it)."""


class TrainingError(Exception):
    """A model file, model folder or conversion that cannot be used."""
