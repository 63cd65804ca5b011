"""Write-audit-publish: versioned, read-only role databases behind an atomic ``current`` pointer."""
