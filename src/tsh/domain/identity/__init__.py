"""Identity & security context (domain.md §1): users, roles and permissions, sessions and tokens,
login attempts, lockouts, blocked IPs, security events, threats, the audit log and policies."""
