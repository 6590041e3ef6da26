"""The rehearsal world's repositories: upstream country config, the country's fork, core.

Built on ``tasks.demo.countryconfig`` (the real repositories' shape) with this world's own
flavour:

* upstream's country files change where real releases changed them (application config
  1.3.2, translations 1.3.1, birth form and certificate 1.3.3 with the ``{{location ...}}``
  helper), and again on master (1.4+);
* the 1.3 ``infrastructure/`` carries the acting stand-ins of ``standins/``: deploy.sh (the
  real script's head, then a deploy over ssh), emergency-backup-metadata.sh (1.3.0 layout at
  v1.3.0, the fixed one from 1.3.1), emergency-restore-metadata.sh, clear-all-data.sh and
  run-migrations.sh;
* the country (``Customisations``) edits four of those files on top of v1.3.0, adds its own
  files, names its release approvers and commits its inventories: merging v1.3.5 (or
  ``release-v1.3.5``) conflicts in exactly ``CONFLICTS``; ``resolve(...)`` re-applies the
  country's edits on upstream's new text, as an operator resolving the conflicts would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.demo import countryconfig as cc

STANDINS = Path(__file__).with_name("standins")
APP_CONFIG = "src/api/application/application-config-default.ts"
CLIENT_JSON = "src/api/content/client/client.json"
BIRTH_FORM = "src/form/birth/index.ts"
CERTIFICATE = "src/data-seeding/certificates/source/Farajaland-birth-certificate-v2.svg"
# Files the country edited that upstream changed between v1.3.0 and v1.3.5.
CONFLICTS = (APP_CONFIG, CLIENT_JSON, CERTIFICATE, BIRTH_FORM)
SCRIPTS = (
    "emergency-backup-metadata.sh",
    "emergency-restore-metadata.sh",
    "clear-all-data.sh",
    "run-migrations.sh",
)


def standin(name: str, version: str = "") -> str:
    text = (STANDINS / name).read_text(encoding="utf-8")
    layout = "1.3.0" if version == "1.3.0" else "1.3.1"
    label_dir = (
        "# (1.3.0: the parts go straight into the remote directory, no <label> directory)"
        if layout == "1.3.0"
        else 'REMOTE_DIR="$REMOTE_DIR/${LABEL:-$BACKUP_DATE}"'
    )
    return (
        text.replace("@@LICENSE@@\n", cc.LICENSE_SH)
        .replace("@@VERSION@@", version)
        .replace("@@LAYOUT@@", layout)
        .replace("@@LABEL_DIR@@", label_dir)
    )


# -- upstream's country files, by version --------------------------------------------------


def app_config(version: str) -> str:
    k = cc.vkey(version)
    tail = (
        "  INFORMANT_SIGNATURE: false,\n"
        "  INFORMANT_SIGNATURE_REQUIRED: false,\n"
        "  FIELD_AGENT_AUDIT_LOCATIONS: 'DISTRICT',\n"
        "  DECLARATION_AUDIT_LOCATIONS: 'DISTRICT',\n"
        "  USER_NOTIFICATION_DELIVERY_METHOD: 'email', // or 'sms'\n"
        "  INFORMANT_NOTIFICATION_DELIVERY_METHOD: 'email', // or 'sms'\n"
        "  EXTERNAL_VALIDATION_WORKQUEUE: false\n"
    )
    if k >= (1, 3, 2):
        tail = tail.replace(
            "  FIELD_AGENT", "  EXTERNAL_VALIDATION_WORKQUEUE: false,\n  FIELD_AGENT"
        )
        tail = tail.replace(
            "  EXTERNAL_VALIDATION_WORKQUEUE: false\n",
            "  SIGNATURE_REQUIRED_FOR_ROLES: ['LOCAL_REGISTRAR', 'NATIONAL_REGISTRAR']\n",
        )
    if k >= (1, 4, 0):
        tail = tail.replace(
            "  INFORMANT_SIGNATURE: false,\n", "  USER_NOTIFICATION_DELIVERY: 'email',\n"
        )
    return (
        "import { countryLogo } from '@countryconfig/api/application/country-logo'\n\n"
        "export const defaultApplicationConfig = {\n"
        "  APPLICATION_NAME: 'Farajaland CRS',\n"
        "  BIRTH: {\n    REGISTRATION_TARGET: 30,\n    LATE_REGISTRATION_TARGET: 365,\n"
        "    FEE: {\n      ON_TIME: 0,\n      LATE: 5.5,\n      DELAYED: 15\n    },\n"
        "    PRINT_IN_ADVANCE: true\n  },\n"
        "  CURRENCY: {\n    languagesAndCountry: ['en-US'],\n    isoCode: 'USD'\n  },\n"
        "  PHONE_NUMBER_PATTERN: '^0(7|9)[0-9]{8}$',\n"
        "  NID_NUMBER_PATTERN: '^[0-9]{10}$',\n"
        "  COUNTRY_LOGO: countryLogo,\n"
        f"{tail}}}\n\n"
        "export const COUNTRY_WIDE_CRUDE_DEATH_RATE = 10\n"
    )


def client_json(version: str) -> str:
    messages = {
        "config.application.name": "Farajaland CRS",
        "constants.birth": "Birth",
        "constants.death": "Death",
        "navigation.outbox": "Outbox",
    }
    if cc.vkey(version) >= (1, 3, 1):
        messages["constants.informantType"] = "Informant type"
    if cc.vkey(version) >= (1, 4, 0):
        messages["navigation.dashboard"] = "Dashboard"
    data = {"data": [{"lang": "en-US", "displayName": "English", "messages": messages}]}
    return json.dumps(data, indent=2) + "\n"


def birth_form(version: str) -> str:
    k = cc.vkey(version)
    place = "districtPlaceofbirthId" if k >= (1, 3, 3) else "districtPlaceofbirth"
    fields = [
        "    getBirthDate('child'),",
        f"    getPlaceOfBirth('{place}'),",
        "    getGender('child'),",
    ]
    if k >= (1, 4, 0):
        fields.insert(0, "    getFirstNameField('child'),")
    return (
        "import { getBirthDate, getGender, getPlaceOfBirth } from '../common/common-optional-fields'\n\n"
        "export const birthRegisterForms = {\n  sections: [\n   {\n    id: 'child',\n"
        "    fields: [\n" + "\n".join(f"  {f}" for f in fields) + "\n    ]\n   }\n  ]\n}\n"
    )


def certificate(version: str) -> str:
    if cc.vkey(version) >= (1, 3, 3):
        place = (
            "{{location districtPlaceofbirthId 'name'}}, {{location statePlaceofbirthId 'name'}}"
        )
    else:
        place = "{{districtPlaceofbirth}}, {{statePlaceofbirth}}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="595" height="842">\n'
        '  <text x="40" y="60">Farajaland birth certificate</text>\n'
        '  <text x="40" y="120">{{childFirstName}} {{childFamilyName}}</text>\n'
        f'  <text x="40" y="160">Born in {place}</text>\n'
        '  <text x="40" y="200">{{eventDate}}</text>\n'
        "</svg>\n"
    )


def upstream_files(version: str, variant: str) -> dict[str, str]:
    files = {
        APP_CONFIG: app_config(version),
        CLIENT_JSON: client_json(version),
        BIRTH_FORM: birth_form(version),
        CERTIFICATE: certificate(version),
        "src/index.ts": "// OpenCRVS country configuration server\nexport async function createServer() {}\n",
    }
    if cc.vkey(version) < (1, 4, 0):
        for name in SCRIPTS:
            files[f"infrastructure/{name}"] = standin(name, version)
    return files


WORLD_FLAVOUR = cc.Flavour(
    files=upstream_files,
    deploy_body=(STANDINS / "deploy_body.sh").read_text(encoding="utf-8"),
)


# -- the country's edits -------------------------------------------------------------------


@dataclass(frozen=True)
class Customisations:
    """What one country changed in its fork, as edits re-appliable to any upstream version."""

    country: str  # "ruritania"

    @property
    def title(self) -> str:
        return self.country.capitalize()

    def edits(self) -> dict[str, Callable[[str], str]]:
        c, title = self.country, self.title
        return {
            APP_CONFIG: lambda t: (
                t.replace("'Farajaland CRS'", f"'{title} CRVS'")
                .replace("isoCode: 'USD'", f"isoCode: '{c[:3].upper()}'")
                .replace(
                    "\n}\n\nexport const COUNTRY_WIDE",
                    f",\n  // {title}: SMS through the national gateway\n  SMS_GATEWAY_ENABLED: true\n}}\n\n"
                    "export const COUNTRY_WIDE",
                )
            ),
            CLIENT_JSON: lambda t: self._messages(t),
            BIRTH_FORM: lambda t: re.sub(
                r"getPlaceOfBirth\('(\w+)'\)", r"getPlaceOfBirth('\1', { required: true })", t
            ).replace(
                "    getGender('child'),",
                f"    getGender('child'),\n      nationalIdField('child'), // {title}: national ID",
            ),
            CERTIFICATE: lambda t: t.replace(
                "Farajaland birth certificate", f"Republic of {title}"
            ).replace('  <text x="40" y="160">Born in', '  <text x="40" y="160">Place of birth:'),
        }

    def _messages(self, text: str) -> str:
        data = json.loads(text)
        messages = data["data"][0]["messages"]
        messages["config.application.name"] = f"{self.title} CRVS"
        messages[f"{self.country}.nationalId"] = "National ID"
        return json.dumps(data, indent=2) + "\n"

    def added_files(self) -> dict[str, str]:
        return {
            "src/form/custom/national-id.ts": (
                f"// {self.title}: the national ID number on every birth declaration\n"
                "export const nationalIdField = (section: string) => ({ name: `${section}NationalId` })\n"
            ),
        }

    def apply(self, path: str, upstream_text: str) -> str:
        edit = self.edits().get(path)
        return edit(upstream_text) if edit else upstream_text

    def resolve(self, path: str, target_version: str) -> str:
        """The conflict's resolution: the country's edit re-applied to upstream's new text."""
        return self.apply(path, upstream_files(target_version, "")[path])
