"""What people read: portal-document readiness, the transfer report PDF, document previews."""
