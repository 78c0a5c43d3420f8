"""The resource families of the fake Asana, one module (or, for tasks, one subpackage) each:
how each family's records are generated, served (its GET routes) and changed (its mutation
ops). Modules here import each other and the shared infrastructure directly; this file
imports nothing."""
