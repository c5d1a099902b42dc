"""After the gate: a school's borrowers (pupils and teachers) and the tablets lent to them."""
