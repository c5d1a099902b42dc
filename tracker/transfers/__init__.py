"""Moving tablets between schools: from a surplus to an unmet need, approved by two people,
carried out as a delivery that starts at a school."""
