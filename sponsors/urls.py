app_name = "sponsors"

urlpatterns = []
