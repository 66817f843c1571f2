-- Re-sealing under a new key: no register write meanwhile, and a scratch table of the
-- re-sealed values (dropped at commit). A cursor reads the sealed values in id order.
LOCK TABLE organisations, households, residents, workers, register_keys IN EXCLUSIVE MODE;
CREATE TEMP TABLE resealed (
    id            bigint NOT NULL,
    kind          text NOT NULL,
    first_sealed  bytea,
    first_lookup  bytea,
    second_sealed bytea,
    second_lookup bytea,
    PRIMARY KEY (kind, id)
) ON COMMIT DROP;
DECLARE sealed_values NO SCROLL CURSOR FOR
    SELECT 'resident' AS kind, id, id_number_sealed AS first, phone_sealed AS second
    FROM residents
    UNION ALL
    SELECT 'organisation', id, contact_phone_sealed, NULL::bytea
    FROM organisations WHERE contact_phone_sealed IS NOT NULL
    UNION ALL
    SELECT 'worker', id, phone_sealed, NULL::bytea
    FROM workers WHERE phone_sealed IS NOT NULL
