"""GS1's reference event hash generator (epcis-event-hash-generator 1.9.3), run the way a third party runs it: in a
fresh Python process, so nothing this test process loaded or cached (our hash, the reference's own global
namespace table) can make an id come out right.

GS1's contexts are served from the copies shipped in ``ledger/schemas`` (the reference ships the standard one
itself; it would fetch the simple one from the Internet), and any other remote context is refused, so the check
never touches the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, Final

_SCRIPT: Final = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from importlib.resources import files
from pyld import jsonld
from epcis_event_hash_generator import hash_generator, json_to_py

VENDORED = {"https://gs1.github.io/EPCIS/epcis-context-simple.jsonld": "epcis-context-simple.jsonld"}
shipped = jsonld.get_document_loader()

def loader(url, options={}):
    if url in VENDORED:
        document = json.loads(files("ledger.schemas").joinpath(VENDORED[url]).read_text())
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": document}
    if url.startswith(("https://ref.gs1.org/standards/epcis/2.0.0/", "https://gs1.github.io/EPCIS/epcis-context")):
        return shipped(url, options)
    raise RuntimeError("the reference asked for " + url + "; the test never fetches")

jsonld.set_document_loader(loader)
answers = []
for document in json.load(sys.stdin):
    json_to_py._namespaces.clear()  # the reference keeps prefixes from earlier documents in a global
    answers.append(hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(document)))
json.dump(answers, sys.stdout)
"""


def reference_ids(documents: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Each document's event ids as the reference computes them, in one fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps(list(documents)),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    answers: list[list[str]] = json.loads(done.stdout)
    return answers


def rehashes(page: dict[str, Any]) -> list[str]:
    """The ids GS1's reference gives the events of a query answer (an EPCISQueryDocument), in its context."""
    events = page["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    wrapped = {"@context": page["@context"], "type": "EPCISDocument", "epcisBody": {"eventList": events}}
    return reference_ids([wrapped])[0]
