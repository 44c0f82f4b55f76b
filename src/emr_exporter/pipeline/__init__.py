"""The export run: source rows -> canonical records -> FHIR + raw rows -> BagIt tar stream."""
