app_name = "prescribers"

urlpatterns = []
