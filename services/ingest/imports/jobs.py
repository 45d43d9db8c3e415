"""The import job (``ingest.import_file``): one uploaded file, all or nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from services.ingest.imports import service
from services.ingest.imports.models import Import
from services.ingest.jobs import registry
from shared.jobs import JobNames
from shared.schemas.imports import ImportStatus

log = logging.getLogger("balise.ingest.imports")


@registry.register(JobNames.INGEST_IMPORT)
async def import_file(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Import the file of ``args.import_id``: its rows and its outcome are committed
    together; a refused file stores nothing and keeps every error on the import."""
    import_id = int(ctx["job"].args["import_id"])
    var_dir = Path(ctx["settings"].var_dir)
    maker = ctx["sessionmaker"]
    progress = ctx["progress"]
    async with maker() as s:
        imp = await s.get(Import, import_id)
        if imp is None or imp.status not in (
            ImportStatus.queued,
            ImportStatus.running,
            ImportStatus.failed,
        ):
            return {"skipped": True}
        path = service.stored_file(var_dir, imp)
        if path is None or not path.exists():
            await service.mark_failed(s, imp, "The uploaded file is gone; upload it again.")
            await s.commit()
            raise RuntimeError("the uploaded file is gone")
        imp.status = ImportStatus.running
        imp.job_id = job_id
        s.add(imp)
        await s.commit()
    await progress(2, "reading the file")
    try:
        async with maker() as s:
            imp = await s.get(Import, import_id)
            assert imp is not None
            outcome = await service.run(s, imp, path, var_dir=None, progress=progress)
            await s.commit()
    except Exception as exc:
        log.exception("import %s failed", import_id)
        async with maker() as s:
            imp = await s.get(Import, import_id)
            if imp is not None:
                await service.mark_failed(
                    s,
                    imp,
                    f"The import stopped before it finished ({type(exc).__name__}); "
                    "nothing of the file was kept. Retry the job.",
                )
                await s.commit()
        raise
    # Committed: the upload is no longer needed.
    path.unlink(missing_ok=True)
    summary = outcome.summary()
    return {
        "import_id": import_id,
        "status": outcome.status,
        "format": summary.format,
        "posts": summary.posts,
        "daily_rows": summary.daily_rows,
        "accounts": summary.accounts,
        "errors": outcome.errors_total,
    }
