// synthscene's shadow-map depth pass (render/shadow_maps.py): depth only, no colour output.
#version 330 core
void main() {
}
