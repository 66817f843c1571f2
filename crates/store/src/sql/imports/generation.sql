-- The register generation (migrations/0010): moves with every statement that writes a
-- register, so an instance can tell whether the registers it holds are current.
SELECT generation FROM register_generation
