"""The import worker under SQS's at-least-once delivery."""

import time

from chalicelib.auth.principal import Principal
from chalicelib.catalogue import import_jobs
from chalicelib.catalogue.models import ImportJobModel, ProductModel

CSV = "sku,name,category1,category2,unit\n1,苹果,水果,苹果梨,个\n2,梨,水果,苹果梨,个\n"
HQ = Principal("hq-admin", "hq_admin")


def test_a_delivery_while_another_worker_holds_the_job_does_nothing(aws):
    job = import_jobs.create_job("products", "text/csv", CSV.encode(), HQ)
    ImportJobModel(job.job_id).update(
        actions=[
            ImportJobModel.status.set("running"),
            ImportJobModel.lease_until.set(int(time.time()) + 600),
        ]
    )
    result = import_jobs.process_job(job.job_id)
    assert result.status == "running" and result.processed_rows == 0
    assert ProductModel.count() == 0


def test_an_expired_lease_is_taken_over(aws):
    job = import_jobs.create_job("products", "text/csv", CSV.encode(), HQ)
    ImportJobModel(job.job_id).update(
        actions=[
            ImportJobModel.status.set("running"),
            ImportJobModel.lease_until.set(int(time.time()) - 1),
        ]
    )
    result = import_jobs.process_job(job.job_id)
    assert (result.status, result.created) == ("succeeded", 2)


def test_a_finished_job_is_not_run_again(aws):
    job = import_jobs.create_job("products", "text/csv", CSV.encode(), HQ)
    assert import_jobs.process_job(job.job_id).created == 2
    ProductModel("1").delete()
    again = import_jobs.process_job(job.job_id)
    assert (again.status, again.created) == ("succeeded", 2)
    assert ProductModel.count() == 1  # the redelivery did not re-apply the file
