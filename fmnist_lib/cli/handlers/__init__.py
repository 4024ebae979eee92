"""The handlers of the `fmnist` subcommands, one module per group of subcommands.

A handler module imports what its commands need at its top (TensorFlow and Keras
among them); ``fmnist_lib.cli`` imports it only when one of its commands runs.
"""
