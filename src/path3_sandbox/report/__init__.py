"""Evidence and what leaves the machine: the evidence folder, JUnit, the one redactor."""
