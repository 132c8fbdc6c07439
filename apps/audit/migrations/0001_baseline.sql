-- Baseline of the audit service's own schema; its tables arrive with the features that own them.
COMMENT ON SCHEMA audit IS 'Vivified audit service: owned by it alone, never read by another service';
