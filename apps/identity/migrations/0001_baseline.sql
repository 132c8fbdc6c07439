-- Baseline of the identity service's own schema; its tables arrive with the features that own them.
COMMENT ON SCHEMA identity IS 'Vivified identity service: owned by it alone, never read by another service';
