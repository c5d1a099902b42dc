"""Reports: documents that read across every feature (the donor report), at the edge."""
