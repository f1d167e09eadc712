"""Model definitions (teachers, students) and checkpoint I/O."""
