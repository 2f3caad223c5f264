"""What a resident downloads, read back: a response's bytes, a dataset's rows."""

import csv
import io
import json


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def rows(client, dataset, fmt="json"):
    response = client.get(f"/2024/data/{dataset}.{fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"))))
    return json.loads(body(response))["data"]
