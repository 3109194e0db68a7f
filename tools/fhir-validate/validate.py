"""Validates FHIR R4 (4.0.1) JSON resources with the `fhir.resources` 6.4.0 models (PyPI), whose
default package is R4 4.0.1 (`fhir.resources.__fhir_version__`). Installed by scripts/setup.sh
into ~/.cache/salus/venv; run by the Rust tests on every resource Salus exports.

Usage: validate.py FILE.json...  Exit 0 when every file validates; otherwise each failure is
printed as `FILE: message` on stderr and the exit status is 1.
"""

import json
import sys

import fhir.resources
from fhir.resources import get_fhir_model_class


def validate(path):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    kind = document.get("resourceType")
    model = get_fhir_model_class(kind)
    model.parse_obj(document)
    if kind == "Bundle":
        for entry in document.get("entry", []):
            resource = entry.get("resource")
            if resource is not None:
                get_fhir_model_class(resource["resourceType"]).parse_obj(resource)


def main(paths):
    if fhir.resources.__fhir_version__ != "4.0.1":
        print(f"fhir.resources holds FHIR {fhir.resources.__fhir_version__}, not R4 4.0.1",
              file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        try:
            validate(path)
        except Exception as error:  # every failure is reported with its file
            print(f"{path}: {error}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
