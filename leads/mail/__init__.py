"""Mail in: reading raw messages (parsing), lead data in ADF/XML (adf), and deciding what each one is (triage)."""
