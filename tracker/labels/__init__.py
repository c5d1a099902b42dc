"""QR codes and printable label sheets."""
