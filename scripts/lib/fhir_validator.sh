# The FHIR validator the tests run (tools/fhir-validate/validate.py): `fhir.resources` 6.4.0, whose
# models are FHIR R4 4.0.1, in a venv created once under ~/.cache/salus/venv (6.4.0 is written
# for pydantic 1); in the same venv `xmlschema` 4.3.2, with which the tests validate EPCIS 1.2
# XML against GS1's XSD (tests/schemas/epcis-1.2). Sourced by scripts/test.sh after setup.sh
# (which defines install_package); exports SALUS_FHIR_PYTHON, which the tests read (they
# default to the same path).
salus_venv="$HOME/.cache/salus/venv"
if [ ! -x "$salus_venv/bin/python" ] ||
    ! "$salus_venv/bin/python" -c 'import fhir.resources, xmlschema' >/dev/null 2>&1; then
    if ! command -v python3 >/dev/null 2>&1; then
        install_package python3 "the FHIR validator of the tests"
    fi
    # Debian's python3 creates no venv without ensurepip, which python3-venv provides.
    if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        install_package python3-venv "the FHIR validator's virtual environment"
    fi
    echo "setup: installing fhir.resources 6.4.0 and xmlschema 4.3.2 into $salus_venv (the FHIR and EPCIS 1.2 validators)" >&2
    rm -rf "$salus_venv"
    python3 -m venv "$salus_venv"
    "$salus_venv/bin/pip" install -q "fhir.resources==6.4.0" "pydantic<2" "xmlschema==4.3.2" >&2
fi
export SALUS_FHIR_PYTHON="$salus_venv/bin/python"
unset salus_venv
