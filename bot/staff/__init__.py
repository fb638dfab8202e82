"""The staff side: accounts and sessions, the audit log, transcripts, export and retention."""
