# gunicorn reads this file from the working directory: the access log masks pass codes.
logger_class = "passnum.gunicorn_logging.MaskedLogger"
