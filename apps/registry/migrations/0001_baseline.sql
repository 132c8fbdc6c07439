-- Baseline of the registry service's own schema; its tables arrive with the features that own them.
COMMENT ON SCHEMA registry IS 'Vivified registry service: owned by it alone, never read by another service';
