"""Permission names of the forecasting app; never spell these as raw strings elsewhere.

FC_W (admin, demand planner, supply planner, finance analyst, coordinator) generates, recommends,
queues jobs, promotes, discards results, detects and triages anomalies and edits consensus.
OPS (admin, executive, coordinator) manages jobs and approves or returns consensus. Every role
but viewer reads the module (ACC-06); a requester always reads their own job.
"""

VIEW_RUN = "forecasting.view_forecastrun"
GENERATE = "forecasting.add_forecastrun"  # generate, recommend, compare with writes
VIEW_RESULT = "forecasting.view_forecast"
DISCARD_RESULT = "forecasting.delete_forecast"
PROMOTE = "forecasting.change_forecast"  # push results into demand plans (FC-33)
ADD_JOB = "forecasting.add_forecastjob"  # generate-job
MANAGE_JOBS = "forecasting.manage_forecastjob"  # list, cancel, retry, metrics, cleanup
VIEW_CONSENSUS = "forecasting.view_forecastconsensus"
ADD_CONSENSUS = "forecasting.add_forecastconsensus"
CHANGE_CONSENSUS = "forecasting.change_forecastconsensus"
DELETE_CONSENSUS = "forecasting.delete_forecastconsensus"
PROPOSE_CONSENSUS = "forecasting.propose_forecastconsensus"
APPROVE_CONSENSUS = "forecasting.approve_forecastconsensus"  # approve and return
VIEW_ANOMALY = "forecasting.view_forecastanomaly"
DETECT_ANOMALIES = "forecasting.add_forecastanomaly"
TRIAGE_ANOMALY = "forecasting.change_forecastanomaly"
VIEW_ACCURACY = "forecasting.view_forecastaccuracypoint"

READ = [VIEW_RUN, VIEW_RESULT, VIEW_CONSENSUS, VIEW_ANOMALY, VIEW_ACCURACY]
WRITE = [GENERATE, DISCARD_RESULT, PROMOTE, ADD_JOB, ADD_CONSENSUS, CHANGE_CONSENSUS, DELETE_CONSENSUS,
         PROPOSE_CONSENSUS, DETECT_ANOMALIES, TRIAGE_ANOMALY]  # fmt: skip
OPS = [MANAGE_JOBS, APPROVE_CONSENSUS]
