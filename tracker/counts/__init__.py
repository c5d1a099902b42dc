"""Counts at the schools: what each school should have, fixed when the count opens, and
what was found there, scanned on the phone online or offline."""
