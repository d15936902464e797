-- +goose Up
-- TAXII pages in SQL: a collection is read in the order (date added, id)
-- per label, the date added of a version being the row's last change
-- (updated_at). One index per source and label walks it; AMBER and
-- AMBER+STRICT read inside the owner's scope from the second. The
-- stix_id index answers "an earlier copy of the same object" (one object
-- per STIX id) for intel_objects as intel_indicators_stix does for
-- indicators.
CREATE INDEX intel_indicators_taxii ON intel_indicators(tlp, updated_at, id);
CREATE INDEX intel_indicators_taxii_owner ON intel_indicators(tlp, owner_org_id, updated_at, id);
CREATE INDEX intel_objects_taxii ON intel_objects(tlp, updated_at, id);
CREATE INDEX intel_objects_stix ON intel_objects(stix_id);
CREATE INDEX advisories_taxii ON advisories(tlp, updated_at, id);

-- +goose Down
DROP INDEX advisories_taxii;
DROP INDEX intel_objects_stix;
DROP INDEX intel_objects_taxii;
DROP INDEX intel_indicators_taxii_owner;
DROP INDEX intel_indicators_taxii;
