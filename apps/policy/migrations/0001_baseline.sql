-- Baseline of the policy service's own schema; its tables arrive with the features that own them.
COMMENT ON SCHEMA policy IS 'Vivified policy service: owned by it alone, never read by another service';
