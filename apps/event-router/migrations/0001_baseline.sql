-- Baseline of the event-router service's own schema; its tables arrive with the features that own them.
COMMENT ON SCHEMA event_router IS 'Vivified event-router service: owned by it alone, never read by another service';
