"""For people writing connectors: scan, detect, scaffold."""
