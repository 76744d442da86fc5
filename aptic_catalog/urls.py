app_name = "aptic_catalog"

urlpatterns = []
